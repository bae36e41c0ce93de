"""cs_xl — customer-service response-time and effectiveness metrics for Excel."""
__version__ = "0.1.0"
