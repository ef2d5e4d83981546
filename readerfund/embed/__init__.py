"""The browser side: embed.js, built from src/ (the decision rules in src/decide.js), served at /embed.js."""
