"""Typed errors whose messages tell the user what to do next."""


class QAError(Exception):
    """Base class of every error qa raises on purpose."""


class QuestionError(QAError, ValueError):
    """The question is empty, too long or otherwise unusable."""


class IngestError(QAError):
    """An input file could not be read as an article."""


class QAIndexError(QAError):
    """The index is missing, corrupt or was built with other settings."""


class IndexCorruptError(QAIndexError):
    """An index file is truncated or unreadable. Fix: `qa index --rebuild`."""


class IndexMismatchError(QAIndexError):
    """The index was built with another embedder or chunker. Fix: `qa index --rebuild`."""


class LLMError(QAError):
    """The language model endpoint failed (refused, timed out, or returned malformed output)."""


class ModelFileError(QAError):
    """The local GGUF model is missing or fails its checksum."""


class ConfigError(QAError, ValueError):
    """A setting has an invalid value; the message names the setting and its environment variable."""
