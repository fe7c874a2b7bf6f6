"""The modes of the window: one workspace each, all with the face of ``base.Workspace``."""
