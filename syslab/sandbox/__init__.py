"""Sandboxes run untrusted commands; executors schedule evaluations onto them."""
