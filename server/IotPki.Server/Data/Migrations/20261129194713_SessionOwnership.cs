using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace IotPki.Server.Data.Migrations
{
    /// <inheritdoc />
    public partial class SessionOwnership : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "InstanceId",
                table: "devices",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "server_instances",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Host = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    HeartbeatAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_server_instances", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_devices_InstanceId",
                table: "devices",
                column: "InstanceId",
                filter: "\"InstanceId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_server_instances_HeartbeatAt",
                table: "server_instances",
                column: "HeartbeatAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "server_instances");

            migrationBuilder.DropIndex(
                name: "IX_devices_InstanceId",
                table: "devices");

            migrationBuilder.DropColumn(
                name: "InstanceId",
                table: "devices");
        }
    }
}
