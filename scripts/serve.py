"""Start the app as `streamlit run app.py` does, with the engine loaded while the server starts.

`make run` uses this: the first visitor then does not wait for scikit-learn, pandas and the
compiled engine to load (about 2.5 s), which Streamlit would otherwise do on the first page view.
Arguments are `streamlit run`'s options, e.g. `--server.port 8501`.
"""

import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def warm_up() -> None:
    """Import what every page needs and run one small fit, so the engine's machine code is loaded."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    import ui.figures  # noqa: F401  (Plotly and the figure builders)
    from gmm_core import fit_gmm

    fit_gmm(np.random.default_rng(0).normal(size=(60, 2)), n_components=2, n_init=2)


if __name__ == "__main__":
    from streamlit.web import cli

    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *sys.argv[1:]]
    sys.exit(cli.main())
