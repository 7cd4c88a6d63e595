"""Live sync across devices: the userEvents subscription."""
