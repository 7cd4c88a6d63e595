"""Types shared by every feature: the Node interface, scalars, pagination."""
