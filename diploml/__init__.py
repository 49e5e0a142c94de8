"""diploml: multi-task classification of Vietnamese diplomatic news."""

__version__ = "0.1.0"
