"""Torch-free pieces shared by the gateway and the inference servers."""
