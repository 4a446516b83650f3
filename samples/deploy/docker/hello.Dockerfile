# The hello service. Build from the repository root:
#   docker build -f samples/deploy/docker/hello.Dockerfile -t hello .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files only, so the layer is reused until a dependency changes.
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY src/CloudMapDiscovery/CloudMapDiscovery.csproj src/CloudMapDiscovery/
COPY samples/Hello/Hello.csproj samples/Hello/
RUN dotnet restore samples/Hello/Hello.csproj
COPY src/CloudMapDiscovery/ src/CloudMapDiscovery/
COPY samples/Shared/ samples/Shared/
COPY samples/Hello/ samples/Hello/
RUN dotnet publish samples/Hello/Hello.csproj -c Release -o /app --no-restore -p:UseAppHost=false

# Chiseled: no shell, no package manager, non-root (user "app", UID 1654) by default; about 110 MB.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS runtime
WORKDIR /app
COPY --from=build /app .
# NAME_SERVER is not baked in: on ECS the task definition sets it (http://name.internal:3000/), under Copilot
# hello builds it from COPILOT_SERVICE_DISCOVERY_ENDPOINT, and without either it defaults to http://name.internal:3000/.
ENV PORT=3000 \
    ASPNETCORE_HTTP_PORTS=
EXPOSE 3000
USER $APP_UID
ENTRYPOINT ["dotnet", "Hello.dll"]
