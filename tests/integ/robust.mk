# Robustness tests (wire, daemon, config, crash): see t_*.sh listed here.
