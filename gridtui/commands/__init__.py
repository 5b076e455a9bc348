"""Subcommands of ``gridtui``: one module per command, each with ``register`` and ``run``.

``register(commands)`` adds the command's parser (with a teaching ``--help``);
``run(args, settings)`` carries it out and returns the exit status. Settings
overrides from flags come from ``overrides(args)`` when a module defines it.
"""
