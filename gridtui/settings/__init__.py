"""User settings: one TOML file + GRIDTUI_ environment variables + CLI flags → frozen configs."""
