"""What only the inference servers run (torch, the hub, the device worker): their lifecycle, devices,
out-of-memory handling, the model cache and their shared metrics. The gateway, the HTTP service and the
client never import it; the torch-free contract they share is `synthmill.common`."""
