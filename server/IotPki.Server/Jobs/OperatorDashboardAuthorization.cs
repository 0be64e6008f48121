using Hangfire.Dashboard;
using IotPki.Server.Operators;

namespace IotPki.Server.Jobs;

/// <summary>The Hangfire dashboard is for operators: viewers and admins see it (authentication ran on the request),
/// and only admins may act on jobs (see <see cref="JobsFeature"/>'s read-only rule).</summary>
public sealed class OperatorDashboardAuthorization : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context)
    {
        var user = context.GetHttpContext().User;
        return user.IsInRole(OperatorRole.Admin) || user.IsInRole(OperatorRole.Viewer);
    }
}
