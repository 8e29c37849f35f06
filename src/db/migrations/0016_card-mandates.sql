ALTER TABLE "mediums" ADD COLUMN "mandate" jsonb;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "mandate" jsonb;