"""The crash test of Recado: real processes killed at random while calls flow, then an audit."""
