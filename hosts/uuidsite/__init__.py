"""A host site of the tests' own whose keys are not integers: a custom user model with a UUID
primary key, an email login and no username; workspaces, notebooks and notes with UUID keys;
tags with integer keys (AutoField), comments with BigAutoField keys, pages with string keys that
need quoting in URLs; and a system actor that is not a user (a ``Bot``)."""
