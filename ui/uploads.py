"""Each session's uploaded files, as Streamlit holds them, bounded in bytes.

Streamlit keeps every file sent to a session's upload endpoint in memory until the
session ends (a few minutes after its tab closed), whether a widget uses it or not,
so replaying uploads could fill the server's memory. :func:`bound_upload_memory`
makes its in-memory file manager drop a session's oldest files as soon as they hold
more than ``gmm_core.budget.SESSION_UPLOAD_BYTES``; the newest file always stays (it
is the one the uploader shows, and the app keeps its own parsed copy of earlier ones).
"""

from __future__ import annotations

from streamlit.runtime import Runtime
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

from gmm_core.budget import SESSION_UPLOAD_BYTES


def bound_upload_memory() -> None:
    """Install the bound on the running server's file manager (once; a no-op without a server)."""
    if not Runtime.exists():
        return
    manager = Runtime.instance().uploaded_file_mgr
    if not isinstance(manager, MemoryUploadedFileManager) or getattr(manager, "bounded_per_session", False):
        return
    add_file = manager.add_file

    def bounded_add_file(session_id, file) -> None:
        add_file(session_id, file)
        trim_session(manager, session_id, SESSION_UPLOAD_BYTES)

    manager.add_file = bounded_add_file
    manager.bounded_per_session = True


def trim_session(manager: MemoryUploadedFileManager, session_id: str, max_bytes: int) -> None:
    """Remove ``session_id``'s oldest files until its files hold at most ``max_bytes`` (the newest stays)."""
    with manager._lock:  # Streamlit's own lock around file_storage, which keeps upload order
        files = [(file_id, len(rec.data)) for file_id, rec in manager.file_storage.get(session_id, {}).items()]
    held = sum(size for _, size in files)
    for file_id, size in files[:-1]:
        if held <= max_bytes:
            break
        manager.remove_file(session_id, file_id)
        held -= size
