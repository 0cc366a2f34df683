"""Live Beats: synchronized social music listening."""
