from django.http import JsonResponse


def sync_view(request):
    return JsonResponse({"message": "Hello World!"})


async def async_view(request):
    return JsonResponse({"message": "Hello Async World!"})
