"""Judging images: CLIPScore, the detectors, the segmenter, their boxes, and the verdict on a batch."""
