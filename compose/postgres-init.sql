-- One database per project (compose.yaml gives every project
-- DATABASE_URL=.../commerce_{service}). Runs once, when the volume is new.
CREATE DATABASE commerce_gateway;
CREATE DATABASE commerce_auth;
CREATE DATABASE commerce_catalog;
CREATE DATABASE commerce_cart;
CREATE DATABASE commerce_payment;
CREATE DATABASE commerce_review;
