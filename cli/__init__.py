"""The eduxchange command-line application (installed as the ``eduxchange_cli`` package)."""
