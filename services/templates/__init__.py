"""The template service: the library of action templates and their immutable versions."""
