"""dangan's exit codes (a contract: scripts and systemd read them)."""

EXIT_OK = 0
EXIT_PROBLEMS = 1  # the check found error-severity violations
EXIT_USAGE = 2  # command line, config or environment not usable
EXIT_INTERNAL = 3  # a bug: reported in one line, never as a traceback
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT
