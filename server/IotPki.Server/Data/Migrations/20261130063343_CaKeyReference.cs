using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace IotPki.Server.Data.Migrations
{
    /// <inheritdoc />
    public partial class CaKeyReference : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.RenameColumn(
                name: "EncryptedKeyPem",
                table: "authorities",
                newName: "KeyReference");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.RenameColumn(
                name: "KeyReference",
                table: "authorities",
                newName: "EncryptedKeyPem");
        }
    }
}
