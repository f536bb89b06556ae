"""The package's exceptions. Only the CLI turns them into messages and exit codes."""


class AssistantError(Exception):
    """Base class: every failure the assistant can explain to its user."""

    exit_code = 1


class GuideError(AssistantError):
    """The guide cannot be read or has no usable structure."""


class OverlayError(AssistantError):
    """The curated intent overlay is malformed or names something the guide lacks."""


class InputError(AssistantError):
    """A question or command-line value the assistant cannot use."""

    exit_code = 2


class AudioError(AssistantError):
    """An audio file, device or stream failed."""


class SpeechError(AssistantError):
    """Text-to-speech failed or its engine is missing."""


class RecognizerError(AssistantError):
    """Speech recognition failed or its engine or model is missing."""


class ModelError(AssistantError):
    """A speech model is missing, corrupt, or cannot be installed."""


class ServiceError(AssistantError):
    """The systemd user service that starts listening at login cannot be installed or removed."""


class CaptionsError(AssistantError):
    """The large-print captions page cannot be served."""
