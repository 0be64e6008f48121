using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace IotPki.Server.Data.Migrations
{
    /// <inheritdoc />
    public partial class IssuingCaRollover : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "IssuerKeyId",
                table: "certificates",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "Active",
                table: "authorities",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "RetiredAt",
                table: "authorities",
                type: "timestamp with time zone",
                nullable: true);

            // Before rollover there was one issuing CA, and it signs.
            migrationBuilder.Sql("UPDATE authorities SET \"Active\" = true WHERE \"Role\" = 'issuing'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "IssuerKeyId",
                table: "certificates");

            migrationBuilder.DropColumn(
                name: "Active",
                table: "authorities");

            migrationBuilder.DropColumn(
                name: "RetiredAt",
                table: "authorities");
        }
    }
}
