using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace IotPki.Server.Data.Migrations
{
    /// <inheritdoc />
    public partial class Renewal : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<TimeSpan>(
                name: "OperationalLifetime",
                table: "manufacturers",
                type: "interval",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "RenewalAtRisk",
                table: "manufacturers",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "RenewalWindowStart",
                table: "manufacturers",
                type: "double precision",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "device_renewals",
                columns: table => new
                {
                    DeviceId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CertificateSerial = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    NotBefore = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    NotAfter = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    WindowOpensAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    SlotAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    AtRiskAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    AskedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    AskCount = table.Column<int>(type: "integer", nullable: false),
                    RenewedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    CampaignId = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_device_renewals", x => x.DeviceId);
                    table.ForeignKey(
                        name: "FK_device_renewals_devices_DeviceId",
                        column: x => x.DeviceId,
                        principalTable: "devices",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "renewal_campaigns",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Actor = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Population = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Within = table.Column<TimeSpan>(type: "interval", nullable: false),
                    Devices = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_renewal_campaigns", x => x.Id);
                });

            // Devices enrolled before renewal was planned: their newest valid certificate, the default window
            // (2/3 to 90 % of its lifetime) and a slot spread by the id's hash over the window's first half.
            migrationBuilder.Sql("""
                INSERT INTO device_renewals ("DeviceId", "CertificateSerial", "NotBefore", "NotAfter", "WindowOpensAt", "SlotAt", "AtRiskAt", "AskCount", "Status")
                SELECT c."DeviceId", c."Serial", c."NotBefore", c."NotAfter",
                       c."NotBefore" + (c."NotAfter" - c."NotBefore") * (2.0 / 3),
                       c."NotBefore" + (c."NotAfter" - c."NotBefore") * (2.0 / 3 + (0.9 - 2.0 / 3) / 2 * (abs(hashtext(c."DeviceId")) % 1000) / 1000.0),
                       c."NotBefore" + (c."NotAfter" - c."NotBefore") * 0.9,
                       0, 'scheduled'
                FROM (SELECT DISTINCT ON ("DeviceId") * FROM certificates
                      WHERE "DeviceId" IS NOT NULL AND "Status" = 'valid' ORDER BY "DeviceId", "IssuedAt" DESC) c
                JOIN devices d ON d."Id" = c."DeviceId" AND d."State" = 'active';
                """);

            migrationBuilder.CreateIndex(
                name: "IX_device_renewals_CampaignId",
                table: "device_renewals",
                column: "CampaignId",
                filter: "\"CampaignId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_device_renewals_Status_AtRiskAt",
                table: "device_renewals",
                columns: new[] { "Status", "AtRiskAt" });

            migrationBuilder.CreateIndex(
                name: "IX_device_renewals_Status_NotAfter",
                table: "device_renewals",
                columns: new[] { "Status", "NotAfter" });

            migrationBuilder.CreateIndex(
                name: "IX_device_renewals_Status_SlotAt",
                table: "device_renewals",
                columns: new[] { "Status", "SlotAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "device_renewals");

            migrationBuilder.DropTable(
                name: "renewal_campaigns");

            migrationBuilder.DropColumn(
                name: "OperationalLifetime",
                table: "manufacturers");

            migrationBuilder.DropColumn(
                name: "RenewalAtRisk",
                table: "manufacturers");

            migrationBuilder.DropColumn(
                name: "RenewalWindowStart",
                table: "manufacturers");
        }
    }
}
