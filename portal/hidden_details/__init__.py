"""Hidden details in files (author, edit history, location): found and removed in a sandboxed child
process (`sandbox.py` runs `child.py`), one format per module. Nothing here touches the disk."""
