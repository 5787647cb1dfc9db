"""The FANN fixtures folder holds the script that made them, run with libfann: not a test."""

collect_ignore = ["fixtures"]
