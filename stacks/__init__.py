"""One Terraform stack per concern; each wires constructs from ``constructs_lib``."""
