# The connector library (connectors/): linked only into idgated, used only in its connector child.
EXTRA_DIST += connectors/oidc.h
