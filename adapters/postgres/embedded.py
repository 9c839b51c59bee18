"""Embedded PostgreSQL for the zero-install default (``pgserver`` ships the server binaries)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("thudo.embedded")


class EmbeddedPostgres:
    """Starts (or attaches to) a server whose data directory lives under ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: Any = None

    def start(self) -> str:
        import pgserver  # imported lazily: production images never start it

        self.data_dir.mkdir(parents=True, exist_ok=True)
        # pgserver refuses to initialise a non-empty directory; keep ours in a subfolder.
        self._server = pgserver.get_server(  # type: ignore[attr-defined]
            self.data_dir / "pg", cleanup_mode="stop")
        log.info("embedded postgresql running", extra={"data_dir": str(self.data_dir)})
        return str(self._server.get_uri())

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
