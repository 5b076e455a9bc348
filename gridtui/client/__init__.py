"""Engine clients: the EngineClient protocol, the in-process engine, and a daemon over WebSocket."""
