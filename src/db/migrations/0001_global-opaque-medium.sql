-- The global "Add new payment method" medium (seed 000): every customer sees it; paying with it goes
-- through Peach Payments' hosted checkout. It belongs to no operator and no customer.
INSERT INTO "mediums" ("id", "operator_id", "customer_id", "medium_type", "status", "provider", "external_reference", "account_name", "account_number", "created_at", "updated_at")
VALUES ('aa8b416b-a7d9-4bc0-af81-041722e11ad4', NULL, NULL, 'ProviderSelectedOpaque', 'Valid', 'PeachPayments', 'Global PeachPayment provider selected opaque medium', 'Add new payment method', NULL, '2023-10-12T04:36:37.252Z', '2023-10-12T04:36:37.252Z')
ON CONFLICT ("id") DO NOTHING;
