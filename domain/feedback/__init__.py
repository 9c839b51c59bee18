"""Citizen feedback ("phản ánh hiện trường"): report → route → handle → reply → rate."""
