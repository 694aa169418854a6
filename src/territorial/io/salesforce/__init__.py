"""Salesforce interoperability: Territory2 metadata (both layouts), package.xml and
Data Loader files."""
