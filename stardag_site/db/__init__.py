"""Database backends of the project (see ``postgresql``)."""
