-- Run once by the postgres image, on its first start with an empty data volume, as the
-- POSTGRES_USER (who owns every database it creates). One database per service, and the
-- event store's. Adding one later: `docker compose exec postgres createdb -U gamestore <name>`.
CREATE DATABASE events;
CREATE DATABASE users;
CREATE DATABASE games;
CREATE DATABASE payments;
CREATE DATABASE notifier;
CREATE DATABASE psp;
CREATE DATABASE indexer;
