"""Either feature pipeline, picked by task: :func:`make_pipeline` and what a live grid needs."""

from __future__ import annotations

from models.features.dayahead import DayAheadPipeline
from models.features.intraday import IntradayPipeline
from models.features.pipeline import DAYAHEAD, PipelineConfig

Pipeline = DayAheadPipeline | IntradayPipeline


def make_pipeline(config: PipelineConfig) -> Pipeline:
    """The pipeline of ``config.task``."""
    if config.task == DAYAHEAD:
        return DayAheadPipeline(config)
    return IntradayPipeline(config)


def capacity_steps(pipeline: Pipeline) -> int:
    """Ring-buffer size a live grid needs: the lookback plus room for published future days."""
    return pipeline.lookback_steps + 3 * pipeline.config.steps_per_day
