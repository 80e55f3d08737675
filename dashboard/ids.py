"""Every component id of the dashboard, in one place.

Plain ids are module constants; pattern-matching ids (one per muscle or preset) are built by the
functions at the bottom, so callbacks and tests never spell an id by hand.
"""

from __future__ import annotations

# page and state
ROOT = "app-root"
URL = "url"
STATE = "state-store"
RESULT = "result-store"
BANNER = "message-banner"
STATUS = "solver-status"

# header controls
POSITION = "position-select"
LINK = "link-sides"
RESET = "reset-baseline"
PRESENT = "presentation-toggle"
PREDICT = "predict-toggle"
REVEAL = "reveal-button"
STORE_A = "store-a-button"
CLEAR_A = "clear-a-button"
AB = "ab-toggle"
EXPORT_CSV = "export-csv"
EXPORT_JSON = "export-json"
DOWNLOAD = "download"
HELP = "help-section"

# tone controls
CONTROLS = "tone-controls"
COUPLING = "coupling-toggle"
TIGHTNESS = "tightness-section"
TIGHT_MUSCLE = "tightness-muscle"
TIGHT_DEG = "tightness-degrees"
TIGHT_CLEAR = "tightness-clear"
TIGHT_LIST = "tightness-list"

# body views
VIEW = "body-view-select"
DRAW = "draw-options"
SAGITTAL = "sagittal-figure"
SAGITTAL_A = "sagittal-a-figure"
FRONTAL = "frontal-figure"
TOP = "top-figure"

# lesson (projector) mode
LESSON = "lesson-select"
LESSON_PANEL = "lesson-panel"
LESSON_QUESTION = "lesson-question"

# measures
MEASURES_TABLE = "measures-table"
MEASURES_DATA = "measures-data"
MEASURES_STATIC = "measures-static"
PI_LL = "pi-ll-flag"
KEY_MEASURES = "key-measures"
SPLIT = "split-summary"

# why panel
MEASURE = "why-measure-select"
WHY_TOGGLE = "why-toggle"
WHY_BODY = "why-body"
WHY_TEXT = "why-text"
WATERFALL = "why-waterfall"
DRIVERS = "why-drivers"

# graph view
GRAPH = "graph-figure"
GRAPH_STEP = "graph-step"
GRAPH_PLAY = "graph-play"
GRAPH_NEXT = "graph-next"
GRAPH_TIMER = "graph-timer"
GRAPH_FRAME = "graph-frame-label"
NODE_SELECT = "graph-node-select"
NODE_DETAILS = "graph-node-details"

# presets and claims
ACTIVE_PRESET = "active-preset"
PRESET_LIST = "preset-list"

# classroom
PREDICTION = "prediction-choice"
PREDICTION_FEEDBACK = "prediction-feedback"
COMPARE = "compare-table"

# pattern-matching id types
TONE = "tone-slider"
TONE_ROW = "tone-row"
PRESET_LOAD = "preset-load"
PRESET_VERDICT = "preset-verdict"
LESSON_TONE = "lesson-slider"
LESSON_ROW = "lesson-row"


def tone(muscle_id: str) -> dict:
    """The slider (with its built-in number box) for one muscle's tone."""
    return {"type": TONE, "muscle": muscle_id}


def preset_load(preset_id: str) -> dict:
    """The "Load" button of one preset card."""
    return {"type": PRESET_LOAD, "preset": preset_id}


def preset_verdict(preset_id: str) -> dict:
    """Where one preset card shows the model's verdict."""
    return {"type": PRESET_VERDICT, "preset": preset_id}


def lesson_tone(name: str) -> dict:
    """The big slider of one lesson control (a muscle, bilateral name or group the API accepts)."""
    return {"type": LESSON_TONE, "name": name}


def lesson_row(name: str) -> dict:
    """The row holding one lesson control (shown only in the lessons that use it)."""
    return {"type": LESSON_ROW, "name": name}
