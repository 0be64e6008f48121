using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace IotPki.Server.Data.Migrations
{
    /// <inheritdoc />
    public partial class ManufacturerUnregisteredPolicy : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "UnregisteredPolicy",
                table: "manufacturers",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "refuse");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "UnregisteredPolicy",
                table: "manufacturers");
        }
    }
}
