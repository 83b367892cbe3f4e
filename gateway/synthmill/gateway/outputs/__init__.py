"""What a job leaves in its folder: the folder itself, item records, data, metadata, COCO and stats."""
