"""HTML reports: model documentation, portfolio report and customer pages."""
