"""kafka-workbench: the `kwb` terminal workbench and command-line tools."""
