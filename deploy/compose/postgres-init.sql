-- The two databases of compose.services.yaml (the official image runs this once, on an empty volume).
CREATE DATABASE reserves OWNER cairn;
CREATE DATABASE arbitrage OWNER cairn;
