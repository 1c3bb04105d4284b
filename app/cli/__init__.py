"""The Typer CLI: thin commands that parse options and call plain functions.

Library noise meant for developers is hidden here, before any command module imports torch:
torch_geometric calls ``torch.jit.script``, deprecated in torch 2.15, at import time.
"""

import warnings

warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=FutureWarning)
