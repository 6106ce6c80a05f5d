"""Test-result formats (JUnit and dialects, NUnit, xUnit.net, TRX, Playwright), their writer and C twin."""
