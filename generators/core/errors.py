"""Errors a user can cause. Each carries one clear line for the CLI or a GUI dialog."""


class UserError(Exception):
    """A problem with the user's input (a file, a flag, a checkpoint), not a bug in Latent Forge.

    The CLI prints `str(error)` as one line and exits 2; the GUI shows it in a dialog.
    """


class AssetError(UserError):
    """A level, image or song file that cannot be read, or an asset of the wrong size."""


class ConditionError(UserError):
    """An unknown condition label, or two labels from a group that allows only one."""


class CheckpointError(UserError):
    """A checkpoint that is missing, corrupt, foreign, unsafe or from a newer Latent Forge."""


class TrainingCancelled(UserError):
    """Training stopped because the user asked; its last finished epoch can be resumed."""
