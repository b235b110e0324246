"""The built-in PBX simulator and the sample clients of `recado demo`."""
