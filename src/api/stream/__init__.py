"""Streamed replies: chatStream and chatEvents, stopGeneration, models and tools."""
