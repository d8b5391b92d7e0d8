"""Readers and writers of the file formats users exchange (no Django): 205-1 workbooks, plans."""
