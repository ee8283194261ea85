// activityui: small progressive enhancements; everything works without this file.
